//! Rebuilds the server when a migration is added: `sqlx::migrate!` embeds the folders at
//! compile time, and Cargo does not otherwise know that it reads them.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
