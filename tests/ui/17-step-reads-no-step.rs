// A lookup and a mapping read steps that do not exist (yet); a step name is used twice.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/30-step-references.yaml");

fn main() {}
