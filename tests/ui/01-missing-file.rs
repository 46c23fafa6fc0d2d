// The file is in none of the places the macro looks.
logto_client::naftiko_capability!("no-such-capability.yaml");

fn main() {}
