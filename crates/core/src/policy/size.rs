//! How many bytes each kind of exchange puts on the wire.
//!
//! The simulation has no wire, so bytes are counted per request from a simple model — header
//! sizes plus bodies — set in a scenario's `[sizes]` table. The defaults are typical of a JSON
//! REST API over HTTP/1.1: a few hundred bytes of headers each way, a 1 KB object, events that
//! embed their object. The live engine counts real bytes instead.

use serde::{Deserialize, Serialize};

/// Sizes used to count bytes on the wire, in bytes. Every field has a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SizeModel {
    /// Request line and headers of a GET (auth, accept, conditional headers). Default 200.
    pub request_headers: u64,
    /// Status line and headers of a response (a `304` is only this). Default 250.
    pub response_headers: u64,
    /// Body of one resource (a payment object). Default 1000.
    pub resource_body: u64,
    /// One event with its embedded object, in a fat webhook or an events page. Default 1200.
    pub event_body: u64,
    /// Body of a thin notification (event id, type, object id). Default 150.
    pub thin_body: u64,
    /// Envelope of an events page (`{"data": [...], "has_more": …}`). Default 50.
    pub page_envelope: u64,
    /// Headers of a webhook POST, signature included. Default 350.
    pub webhook_headers: u64,
}

impl Default for SizeModel {
    fn default() -> Self {
        SizeModel {
            request_headers: 200,
            response_headers: 250,
            resource_body: 1000,
            event_body: 1200,
            thin_body: 150,
            page_envelope: 50,
            webhook_headers: 350,
        }
    }
}

impl SizeModel {
    /// A GET (resource, events page or enrichment): request out.
    pub fn get_request(&self) -> u64 {
        self.request_headers
    }
    /// A `200 OK` carrying one resource.
    pub fn resource_response(&self) -> u64 {
        self.response_headers + self.resource_body
    }
    /// A `304 Not Modified`.
    pub fn not_modified(&self) -> u64 {
        self.response_headers
    }
    /// An events page with `n` events.
    pub fn page_response(&self, n: u64) -> u64 {
        self.response_headers + self.page_envelope + n * self.event_body
    }
    /// A webhook POST, fat (`thin = false`) or thin.
    pub fn webhook_request(&self, thin: bool) -> u64 {
        self.webhook_headers
            + if thin {
                self.thin_body
            } else {
                self.event_body
            }
    }
    /// The receiver's answer (empty body), or a `429`/`503` from anyone.
    pub fn empty_response(&self) -> u64 {
        self.response_headers
    }
}
