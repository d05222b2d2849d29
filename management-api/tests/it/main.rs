//! End-to-end tests of the management tier over real sockets: the embedded default on SQLite,
//! and the split deployment on PostgreSQL and Redis with standalone redirectors.

mod account;
mod auth;
mod binary;
mod browser;
mod campaigns;
mod channels;
mod dashboard;
mod domains;
mod embedded;
mod files;
mod keys;
mod links;
mod oauth;
mod pixels;
mod plans;
mod qr;
mod qr_images;
mod rotator;
mod splash;
mod split;
mod support;
mod users;
