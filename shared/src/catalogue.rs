//! The services' ports, from the lab's catalogue (`catalogue.txt`, read by `shared/build.rs`):
//! each service's default `PORT`, and where web-service finds the other two by default.

/// api-service's port.
pub const API_SERVICE_PORT: u16 = port(env!("LAB_API_SERVICE_PORT"));
/// db-service's port.
pub const DB_SERVICE_PORT: u16 = port(env!("LAB_DB_SERVICE_PORT"));
/// web-service's port.
pub const WEB_SERVICE_PORT: u16 = port(env!("LAB_WEB_SERVICE_PORT"));

/// A port number from the catalogue, checked while compiling.
const fn port(text: &str) -> u16 {
    match u16::from_str_radix(text, 10) {
        Ok(port) if port > 0 => port,
        _ => panic!("catalogue.txt: a service's port is not a port number (1-65535)"),
    }
}
