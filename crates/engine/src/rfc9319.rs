//! RFC 9319 (avoidance of maxLength and of non-minimal ROAs): the
//! warnings a ROA change gets, from the CA's ROAs alone ([`warnings`]) and
//! against a table of BGP announcements ([`bgp`]).

pub mod bgp;
pub mod warnings;
