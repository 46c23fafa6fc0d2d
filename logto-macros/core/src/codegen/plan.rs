//! The static `CallPlan` of an exposed operation or tool that forwards to a
//! consumed operation: where each consumed input comes from, read per
//! request by the runtime (`logto_client::plan`), shared by the REST and MCP
//! adapters.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{self, Source, TemplatePart};

/// What a plan is made from: the exposed side's bindings and mapping.
pub(crate) struct Exposed<'a> {
    /// What feeds each consumed input.
    pub bindings: &'a [ir::Binding],
    /// The exposed output mapping.
    pub mapping: Option<&'a str>,
    /// The exposed input a source reads, by name (`None`: it reads nothing
    /// the caller gave, so it is missing).
    pub input_of: &'a dyn Fn(&Source) -> Option<String>,
}

/// An `Option<__rt::CallPlan>` constant expression.
/// `api` is the index of the upstream's client in the adapter's
/// `Upstreams`, `op` that of `target` in its API (the `CallRef`'s).
pub(crate) fn call_plan(
    api: usize,
    op: usize,
    target: &ir::ConsumedOp,
    exposed: &Exposed<'_>,
) -> TokenStream {
    // Sources in the order the runtime reads them: each consumed input,
    // then the extras. An input read for the last time is moved, not copied.
    let mut sources: Vec<&Source> = Vec::new();
    let plain = |input: &str| {
        exposed
            .bindings
            .iter()
            .find(|b| b.input == input && !b.extra)
            .map(|b| &b.source)
    };
    for input in &target.inputs {
        if let Some(src) = plain(&input.name) {
            sources.push(src);
        }
    }
    let extras: Vec<&ir::Binding> = exposed.bindings.iter().filter(|b| b.extra).collect();
    sources.extend(extras.iter().map(|b| &b.source));
    let reads = |src: &Source| -> Vec<String> {
        match src {
            Source::Template(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    TemplatePart::Input(n) => Some(n.clone()),
                    TemplatePart::Text(_) | TemplatePart::Bind(_) => None,
                })
                .collect(),
            Source::Literal(_) => Vec::new(),
            other => (exposed.input_of)(other).into_iter().collect(),
        }
    };
    let mut seen_later: Vec<String> = Vec::new();
    let mut take = vec![false; sources.len()];
    for (k, src) in sources.iter().enumerate().rev() {
        let names = reads(src);
        if let (false, [name]) = (matches!(src, Source::Template(_)), names.as_slice())
            && let Some(slot) = take.get_mut(k)
        {
            *slot = !seen_later.contains(name);
        }
        seen_later.extend(names);
    }
    let mut k = 0;
    let mut next_src = |src: Option<&Source>| -> TokenStream {
        let Some(src) = src else {
            return quote! { __rt::Missing };
        };
        let moved = take.get(k).copied().unwrap_or(false);
        k += 1;
        src_expr(src, moved, exposed)
    };
    let args: Vec<TokenStream> = target
        .inputs
        .iter()
        .map(|input| next_src(plain(&input.name)))
        .collect();
    let extras: Vec<TokenStream> = extras
        .iter()
        .map(|b| {
            let name = &b.input;
            let src = next_src(Some(&b.source));
            quote! { (#name, #src) }
        })
        .collect();
    // The consumed operation by its index in its API (the plan's upstream
    // knows its operations).
    let op = proc_macro2::Literal::usize_unsuffixed(op);
    let api = proc_macro2::Literal::usize_unsuffixed(api);
    match (extras.is_empty(), exposed.mapping) {
        (true, None) => quote! { __rt::plan(#api, #op, &[#(#args),*]) },
        (_, mapping) => {
            let mapping = super::opt(mapping);
            quote! { __rt::plan_with(#api, #op, &[#(#args),*], &[#(#extras),*], #mapping) }
        }
    }
}

/// One source as a `__rt::Src`.
fn src_expr(src: &Source, moved: bool, exposed: &Exposed<'_>) -> TokenStream {
    match src {
        Source::Literal(v) => {
            let text = v.to_string();
            quote! { __rt::Literal(#text) }
        }
        Source::Template(parts) => {
            let parts = parts.iter().map(|p| match p {
                TemplatePart::Text(t) => quote! { __rt::TemplatePart::Text(#t) },
                TemplatePart::Input(n) => quote! { __rt::TemplatePart::Input(#n) },
                TemplatePart::Bind(i) => quote! { __rt::TemplatePart::Bind(#i) },
            });
            quote! { __rt::Template(&[#(#parts),*]) }
        }
        other => match (exposed.input_of)(other) {
            Some(name) if moved => quote! { __rt::Take(#name) },
            Some(name) => quote! { __rt::Input(#name) },
            None => quote! { __rt::Missing },
        },
    }
}
