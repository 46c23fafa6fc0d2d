// Valid constructs that are not generated yet are errors at their own lines.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/unsupported/not-generated-yet.yaml");

fn main() {}
