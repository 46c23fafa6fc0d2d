// Two MCP tools named list-ships.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/14-duplicate-tool.yaml");

fn main() {}
