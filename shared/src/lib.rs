//! What the redirector and the management API must agree on, and nothing that does I/O: the link
//! record and its codec, Redis key names, the click event, configuration parsing and `decide()`.

pub mod click_event;
pub mod config;
pub mod decide;
pub mod link;
pub mod redis_keys;

pub use click_event::{ClickEvent, VisitorClass};
pub use decide::{Decision, RequestFacts, decide};
pub use link::{CodecError, DEFAULT_DOMAIN, LinkRecord, normalize_host};
pub use redis_keys::Keys;
