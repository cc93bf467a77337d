//! The walk over a model's body that replaces `sample!`, `observe!`, `deterministic!` and
//! `potential!` with runtime calls, overriding only the nodes that can hold them.
//!
//! It descends into blocks, closures, loops, match arms and nested expressions (keeping track of
//! loops and closures, where an unnamed `sample!` is an error) but not into nested items: an inner
//! `fn` is not part of the model.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Ident, Macro, Stmt, Token};

use crate::expand;
use crate::parse::{binding_ident, mentions_ppl_macro, MacroArg, MacroArgs, MacroKind};
use crate::validate::{self, Errors, Repetition, UniqueNames};

/// Rewrites every macro call in `block` in place; returns the problems found (all of them).
pub fn model_body(block: &mut Block) -> Errors {
    let mut rewriter = BodyRewriter {
        ctx: expand::ctx_ident(),
        repetition: Vec::new(),
        names: UniqueNames::default(),
        anonymous_potentials: 0,
        errors: Errors::default(),
    };
    rewriter.visit_block_mut(block);
    rewriter.errors
}

struct BodyRewriter {
    /// The context parameter's identifier, shared with the signature.
    ctx: Ident,
    /// Enclosing loops and closures, innermost last.
    repetition: Vec<Repetition>,
    /// Every variable name used so far.
    names: UniqueNames,
    /// How many `potential!(expr)` without a name were seen: the next is `potential_{this}`.
    anonymous_potentials: usize,
    errors: Errors,
}

impl BodyRewriter {
    /// The runtime call replacing one of our macros, or `None` after reporting why it cannot be
    /// generated. `binding` is the identifier of an enclosing `let x = sample!(..)`.
    fn expand_macro(
        &mut self,
        kind: MacroKind,
        mac: &Macro,
        binding: Option<&Ident>,
    ) -> Option<Expr> {
        let call_tokens = mac.to_token_stream();
        let mut args = self.errors.check(MacroArgs::parse(kind, mac))?;
        for arg in &mut args.args {
            match arg {
                MacroArg::Positional(expr) => self.visit_expr_mut(expr),
                MacroArg::Named(named) => self.visit_expr_mut(&mut named.value),
            }
        }
        let expanded = self.expand_args(args, binding, &call_tokens);
        self.errors.check(expanded)
    }

    fn expand_args(
        &mut self,
        args: MacroArgs,
        binding: Option<&Ident>,
        call_tokens: &TokenStream,
    ) -> syn::Result<Expr> {
        let ctx = &self.ctx;
        match args.kind {
            MacroKind::Sample => {
                let call = validate::sample_call(args)?;
                let site = validate::sample_name(
                    &call,
                    binding,
                    self.repetition.last().copied(),
                    call_tokens,
                )?;
                self.names.insert(&site)?;
                Ok(expand::sample_call(ctx, &call, &site.name))
            }
            MacroKind::Observe => {
                let call = validate::observe_call(args)?;
                let site = validate::observe_name(&call)?;
                self.names.insert(&site)?;
                Ok(expand::observe_call(ctx, &call, &site.name))
            }
            MacroKind::Deterministic => {
                let call = validate::deterministic_call(args)?;
                self.names.insert(&validate::deterministic_name(&call))?;
                Ok(expand::deterministic_call(ctx, &call))
            }
            MacroKind::Potential => {
                let call = validate::potential_call(args)?;
                let site =
                    validate::potential_name(&call, &mut self.anonymous_potentials, call_tokens);
                self.names.insert(&site)?;
                Ok(expand::potential_call(ctx, &call, &site.name))
            }
        }
    }

    fn in_repetition(&mut self, repetition: Repetition, visit: impl FnOnce(&mut Self)) {
        self.repetition.push(repetition);
        visit(self);
        self.repetition.pop();
    }
}

impl VisitMut for BodyRewriter {
    /// `let x = sample!(..);` is named after `x`; `observe!(..);` as a statement becomes a call
    /// statement.
    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Local(local) => {
                if let Some(init) = &mut local.init {
                    if let Expr::Macro(expr_macro) = &*init.expr {
                        if let Some(kind) = MacroKind::of(&expr_macro.mac) {
                            let mac = expr_macro.mac.clone();
                            let binding = binding_ident(&local.pat).cloned();
                            if let Some(call) = self.expand_macro(kind, &mac, binding.as_ref()) {
                                *init.expr = call;
                            }
                            if let Some((_, diverge)) = &mut init.diverge {
                                self.visit_expr_mut(diverge);
                            }
                            return;
                        }
                    }
                }
                visit_mut::visit_local_mut(self, local);
            }
            Stmt::Macro(stmt_macro) => match MacroKind::of(&stmt_macro.mac) {
                Some(kind) => {
                    let mac = stmt_macro.mac.clone();
                    let semi = stmt_macro.semi_token;
                    if let Some(call) = self.expand_macro(kind, &mac, None) {
                        *stmt = Stmt::Expr(call, semi);
                    }
                }
                None => visit_mut::visit_stmt_mut(self, stmt),
            },
            _ => visit_mut::visit_stmt_mut(self, stmt),
        }
    }

    /// A braced `observe! { .. }` statement has no `;`; its replacement call needs one unless it
    /// ends the block.
    fn visit_block_mut(&mut self, block: &mut Block) {
        visit_mut::visit_block_mut(self, block);
        let last = block.stmts.len().saturating_sub(1);
        for stmt in &mut block.stmts[..last] {
            if let Stmt::Expr(Expr::Call(_), semi @ None) = stmt {
                *semi = Some(<Token![;]>::default());
            }
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Macro(expr_macro) = expr {
            if let Some(kind) = MacroKind::of(&expr_macro.mac) {
                let mac = expr_macro.mac.clone();
                if let Some(call) = self.expand_macro(kind, &mac, None) {
                    *expr = call;
                }
                return;
            }
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    /// Another macro (`vec![..]`, `println!(..)`) whose arguments contain one of ours: rewrite
    /// inside when its arguments are comma-separated expressions.
    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        if MacroKind::of(mac).is_some() || !mentions_ppl_macro(&mac.tokens) {
            return;
        }
        match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone()) {
            Ok(mut exprs) => {
                for expr in exprs.iter_mut() {
                    self.visit_expr_mut(expr);
                }
                mac.tokens = exprs.into_token_stream();
            }
            Err(_) => self.errors.push(syn::Error::new_spanned(
                &*mac,
                "#[model] cannot rewrite sample!, observe!, deterministic! or potential! inside this macro: bind the value with `let` first",
            )),
        }
    }

    /// Nested items (`fn`, `struct`, ...) are not part of the model.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_expr_closure_mut(&mut self, closure: &mut syn::ExprClosure) {
        self.in_repetition(Repetition::Closure, |this| {
            this.visit_expr_mut(&mut closure.body)
        });
    }

    fn visit_expr_for_loop_mut(&mut self, for_loop: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut for_loop.expr);
        self.in_repetition(Repetition::Loop, |this| {
            this.visit_block_mut(&mut for_loop.body)
        });
    }

    fn visit_expr_while_mut(&mut self, while_loop: &mut syn::ExprWhile) {
        self.in_repetition(Repetition::Loop, |this| {
            this.visit_expr_mut(&mut while_loop.cond);
            this.visit_block_mut(&mut while_loop.body);
        });
    }

    fn visit_expr_loop_mut(&mut self, loop_expr: &mut syn::ExprLoop) {
        self.in_repetition(Repetition::Loop, |this| {
            this.visit_block_mut(&mut loop_expr.body)
        });
    }
}
