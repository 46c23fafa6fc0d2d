// The argument must be one string literal.
logto_client::naftiko_capability!(logto_experience);

fn main() {}
