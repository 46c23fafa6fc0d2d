//! Orchestrated `steps` (SEMANTICS.md decision 17): one async block per
//! exposed operation or tool that runs its steps in order over a per-request
//! context, shared by the REST and MCP adapters.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir;
use crate::names::ident;

/// An async block evaluating to `Result<Value, orchestrate::StepError>`.
/// `params` (a JSON object of the exposed inputs) must be in scope; `core`
/// gives the expression of an API's `Core` from its module name.
pub(crate) fn block(
    rt: &syn::Path,
    cap: &ir::Capability,
    orch: &ir::Orchestration,
    core: &dyn Fn(&syn::Ident) -> TokenStream,
) -> TokenStream {
    let o = quote! { #rt::orchestrate };
    let json = quote! { __rt::serde_json };
    let mut stmts = Vec::new();
    for step in &orch.steps {
        match step {
            ir::Step::Call { name, call, with } => {
                let Some(api) = cap.apis.get(call.api) else {
                    continue;
                };
                let Some(target) = api.operations.get(call.op) else {
                    continue;
                };
                let module = ident(&api.module);
                let core = core(&module);
                let spec = super::client::spec_name(target);
                let withs = with.iter().map(|(k, v)| match v {
                    ir::StepWith::Ref(n) => quote! { (#k, #o::With::Ref(#n)) },
                    ir::StepWith::Template(t) => quote! { (#k, #o::With::Template(#t)) },
                    ir::StepWith::Literal(v) => {
                        let text = v.to_string();
                        quote! { (#k, #o::With::Literal(#text)) }
                    }
                });
                let args = target.inputs.iter().map(|input| {
                    let key = &input.name;
                    quote! { #o::step_input(&context, with, #key, &core)? }
                });
                stmts.push(quote! {
                    {
                        let core = #core;
                        let with: &[(&str, #o::With)] = &[#(#withs),*];
                        let call = core.prepare(&super::#module::#spec, ::std::vec![#(#args),*])?;
                        let output = #o::send(&core, call).await?;
                        context.insert(::std::string::String::from(#name), output);
                    }
                });
            }
            ir::Step::Lookup {
                name,
                index,
                key,
                value,
                outputs,
            } => {
                stmts.push(quote! {
                    {
                        let output = #o::lookup(&context, #index, #key, #value, &[#(#outputs),*]);
                        context.insert(::std::string::String::from(#name), output);
                    }
                });
            }
        }
    }
    let answer = if orch.mappings.is_empty() {
        let last = orch
            .steps
            .last()
            .map(|s| match s {
                ir::Step::Call { name, .. } | ir::Step::Lookup { name, .. } => name.as_str(),
            })
            .unwrap_or_default();
        quote! { context.remove(#last).unwrap_or_default() }
    } else {
        let pairs = orch.mappings.iter().map(|(t, v)| quote! { (#t, #v) });
        let types = orch.output_types.iter().map(|(n, t)| {
            let t = t.as_str();
            quote! { (#n, #t) }
        });
        quote! { #o::coerce_fields(#o::mappings(&context, &[#(#pairs),*]), &[#(#types),*]) }
    };
    quote! {
        async move {
            let mut context: #json::Map<::std::string::String, #json::Value> = params;
            #(#stmts)*
            __rt::Ok::<#json::Value, #o::StepError>(#answer)
        }
    }
}

/// The APIs an orchestration calls.
pub(crate) fn calls(orch: Option<&ir::Orchestration>) -> impl Iterator<Item = ir::CallRef> + '_ {
    orch.into_iter().flat_map(|o| {
        o.steps.iter().filter_map(|s| match s {
            ir::Step::Call { call, .. } => Some(*call),
            ir::Step::Lookup { .. } => None,
        })
    })
}
