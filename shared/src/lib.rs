//! What the redirector and the management API must agree on, and nothing that does I/O: the link
//! record and its codec, QR images, Redis key names, the click event, configuration parsing, geo rule keys and `decide()`.

pub mod click_event;
pub mod config;
pub mod decide;
pub mod link;
pub mod qr_image;
pub mod redis_keys;
pub mod region;
pub mod visitor;

pub use click_event::{ClickEvent, VisitorClass};
pub use decide::{Decision, Page, RequestFacts, decide, is_safe_destination};
pub use link::{CodecError, DEFAULT_DOMAIN, DomainRecord, LinkRecord, normalize_host};
pub use qr_image::QrImage;
pub use redis_keys::Keys;
