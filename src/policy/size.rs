//! How many bytes each kind of exchange puts on the wire.
//!
//! Bytes are counted per request from a simple model — fixed header sizes plus the body — not
//! measured, because the simulation has no wire. The defaults are typical of a JSON REST API
//! over HTTP/1.1 (a few hundred bytes of headers each way, a 1 KiB object); the live engine
//! counts real bytes instead.

/// Sizes used to count bytes on the wire, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeModel {
    /// Request line and headers of a GET (auth, accept, …). Default 200.
    pub request_headers: u64,
    /// Status line and headers of a response. Default 250.
    pub response_headers: u64,
    /// Body of one resource (a payment object). Default 1000.
    pub resource_body: u64,
    /// Body of one fat webhook delivery (the event with its object). Default 1200.
    pub webhook_body: u64,
    /// Headers of a webhook POST, signature included. Default 350.
    pub webhook_headers: u64,
}

impl Default for SizeModel {
    fn default() -> Self {
        SizeModel {
            request_headers: 200,
            response_headers: 250,
            resource_body: 1000,
            webhook_body: 1200,
            webhook_headers: 350,
        }
    }
}

impl SizeModel {
    /// A GET of one resource: request out.
    pub fn get_request(&self) -> u64 {
        self.request_headers
    }
    /// A `200 OK` carrying one resource.
    pub fn resource_response(&self) -> u64 {
        self.response_headers + self.resource_body
    }
    /// A webhook POST with its body.
    pub fn webhook_request(&self) -> u64 {
        self.webhook_headers + self.webhook_body
    }
    /// The receiver's empty `2xx` acknowledgement.
    pub fn ack_response(&self) -> u64 {
        self.response_headers
    }
}
