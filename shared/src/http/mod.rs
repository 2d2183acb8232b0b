//! HTTP: the server every service runs ([`server`]), the layers its routes run inside
//! ([`middleware`], with the request deadline of [`deadline`]), the router shape the JSON
//! services share ([`router`]), and extractors that answer bad input with the JSON error type
//! ([`extract`]).

pub mod deadline;
pub mod extract;
pub mod middleware;
pub mod router;
pub mod server;
