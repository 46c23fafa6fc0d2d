// naftiko: 0.5 is not a version this generator reads.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/02-bad-version.yaml");

fn main() {}
