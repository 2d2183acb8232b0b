//! Reads each service's port from the lab's catalogue (`catalogue.txt` at the repository's root,
//! the one home of that fact) into the environment of the compile, where `shared::catalogue`
//! takes them as constants: the binaries and the images cannot disagree on a port.

use std::{env, fs, path::Path};

fn main() {
    let catalogue =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("../catalogue.txt");
    println!("cargo:rerun-if-changed={}", catalogue.display());
    let text = fs::read_to_string(&catalogue)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", catalogue.display()));
    for line in text.lines() {
        if let ["service", name, port, _profile] = line.split_whitespace().collect::<Vec<_>>()[..] {
            let variable = name.to_uppercase().replace('-', "_");
            println!("cargo:rustc-env=LAB_{variable}_PORT={port}");
        }
    }
}
