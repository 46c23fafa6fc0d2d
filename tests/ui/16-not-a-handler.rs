// A type that does not implement the adapter's trait cannot be served; the
// message names the adapter.
logto_client::naftiko_capability!("../../../../tests/capabilities/rest-api.yaml");

struct NotAnApp;

fn main() {
    let _ = items_rest::router(NotAnApp, Default::default());
}
