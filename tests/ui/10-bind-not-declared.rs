// {{env.REGISTRY_TOKNE}} is not a declared bind.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/11-bind-not-declared.yaml");

fn main() {}
