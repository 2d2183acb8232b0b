//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds them at
//! compile time, and Cargo does not know the macro reads that folder.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
