// `health` has no `call`, so it has no default: leaving it out is an error
// that names it.
logto_client::naftiko_capability!("../../../../tests/capabilities/rest-api.yaml");

struct App(items_rest::Upstreams);

impl items_rest::Handlers for App {
    fn upstreams(&self) -> &items_rest::Upstreams {
        &self.0
    }
}

fn main() {}
