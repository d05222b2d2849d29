//! Integration tests of the redirect edge over real sockets: one binary, one module per feature.

mod campaigns;
mod embedded;
mod experience;
mod invalidation;
mod outage;
mod pages;
mod probes;
mod qr;
mod redirects;
mod shutdown;
mod slow_clients;
mod support;
