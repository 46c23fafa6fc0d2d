// Absolute paths would tie the build to one machine.
logto_client::naftiko_capability!("/etc/logto-experience.yaml");

fn main() {}
