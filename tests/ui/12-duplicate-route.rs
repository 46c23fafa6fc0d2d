// GET /ships/{id} and GET /ships/{imo} are one route.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/13-duplicate-route.yaml");

fn main() {}
