//! DER as an editable tree, for signing objects wrong on purpose: a test
//! parses a certificate or CRL the CA made, changes one field of its
//! to-be-signed part, and signs it again (see `Faults::resign_der`).

/// One DER element: primitive (tag and contents) or constructed (tag and
/// elements).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A primitive element.
    Prim(u8, Vec<u8>),
    /// A constructed element.
    Cons(u8, Vec<Node>),
}

/// SEQUENCE.
pub const SEQUENCE: u8 = 0x30;
/// SET.
pub const SET: u8 = 0x31;
/// BOOLEAN.
pub const BOOLEAN: u8 = 0x01;
/// INTEGER.
pub const INTEGER: u8 = 0x02;
/// OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// OBJECT IDENTIFIER.
pub const OID: u8 = 0x06;
/// UTF8String.
pub const UTF8_STRING: u8 = 0x0c;
/// PrintableString.
pub const PRINTABLE_STRING: u8 = 0x13;
/// IA5String.
pub const IA5_STRING: u8 = 0x16;
/// UTCTime.
pub const UTC_TIME: u8 = 0x17;
/// GeneralizedTime.
pub const GENERALIZED_TIME: u8 = 0x18;

impl Node {
    /// Parses one element that is all of `der`.
    pub fn parse(der: &[u8]) -> Node {
        Node::try_parse(der).expect("one well-formed DER element")
    }

    /// Parses one element that is all of `der`, if it is one (definite
    /// lengths of up to four octets, single-byte tags).
    pub fn try_parse(der: &[u8]) -> Option<Node> {
        match Node::parse_one(der)? {
            (node, []) => Some(node),
            _ => None,
        }
    }

    /// Parses the elements one after the other that are all of `der`.
    pub fn try_parse_all(mut der: &[u8]) -> Option<Vec<Node>> {
        let mut out = Vec::new();
        while !der.is_empty() {
            let (node, rest) = Node::parse_one(der)?;
            out.push(node);
            der = rest;
        }
        Some(out)
    }

    fn parse_one(der: &[u8]) -> Option<(Node, &[u8])> {
        let (&tag, rest) = der.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            n if n < 0x80 => (usize::from(n), rest),
            0x81..=0x84 => {
                let k = usize::from(first & 0x7f);
                let len = rest
                    .get(..k)?
                    .iter()
                    .fold(0usize, |a, b| (a << 8) | usize::from(*b));
                (len, &rest[k..])
            }
            _ => return None,
        };
        let value = rest.get(..len)?;
        let rest = &rest[len..];
        if tag & 0x20 != 0 {
            Some((Node::Cons(tag, Node::try_parse_all(value)?), rest))
        } else {
            Some((Node::Prim(tag, value.to_vec()), rest))
        }
    }

    /// The element's DER.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, value) = match self {
            Node::Prim(tag, value) => (*tag, value.clone()),
            Node::Cons(tag, kids) => (*tag, kids.iter().flat_map(Node::encode).collect()),
        };
        let mut out = vec![tag];
        let len = value.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(&value);
        out
    }

    /// The element's tag.
    pub fn tag(&self) -> u8 {
        match self {
            Node::Prim(tag, _) | Node::Cons(tag, _) => *tag,
        }
    }

    /// The elements of a constructed element.
    pub fn kids(&mut self) -> &mut Vec<Node> {
        match self {
            Node::Cons(_, kids) => kids,
            Node::Prim(tag, _) => panic!("element {tag:#04x} is primitive"),
        }
    }

    /// The contents of a primitive element.
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        match self {
            Node::Prim(_, value) => value,
            Node::Cons(tag, _) => panic!("element {tag:#04x} is constructed"),
        }
    }

    /// The element at `path` of element numbers below this one.
    pub fn at(&mut self, path: &[usize]) -> &mut Node {
        path.iter().fold(self, |node, i| &mut node.kids()[*i])
    }
}

/// An OBJECT IDENTIFIER element for `dotted`.
pub fn oid(dotted: &str) -> Node {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut out = Vec::new();
    let mut push = |mut arc: u64| {
        let mut bytes = vec![(arc & 0x7f) as u8];
        arc >>= 7;
        while arc > 0 {
            bytes.push(0x80 | (arc & 0x7f) as u8);
            arc >>= 7;
        }
        bytes.reverse();
        out.extend(bytes);
    };
    push(arcs[0] * 40 + arcs[1]);
    arcs[2..].iter().for_each(|a| push(*a));
    Node::Prim(OID, out)
}

/// A SEQUENCE of `kids`.
pub fn seq(kids: Vec<Node>) -> Node {
    Node::Cons(SEQUENCE, kids)
}

/// The extension `dotted` in the extension list `exts` (a SEQUENCE).
pub fn extension<'a>(exts: &'a mut Node, dotted: &str) -> &'a mut Node {
    let want = oid(dotted);
    exts.kids()
        .iter_mut()
        .find(|e| matches!(e, Node::Cons(_, kids) if kids[0] == want))
        .unwrap_or_else(|| panic!("no extension {dotted}"))
}

/// Marks the extension `ext` critical or not (DER leaves out FALSE).
pub fn set_critical(ext: &mut Node, critical: bool) {
    let kids = ext.kids();
    if kids[1].tag() == BOOLEAN {
        kids.remove(1);
    }
    if critical {
        kids.insert(1, Node::Prim(BOOLEAN, vec![0xff]));
    }
}

/// Edits the DER inside the extension's OCTET STRING value.
pub fn edit_value(ext: &mut Node, edit: impl FnOnce(&mut Node)) {
    let value = ext.kids().last_mut().unwrap().bytes();
    let mut inner = Node::parse(value);
    edit(&mut inner);
    *value = inner.encode();
}

/// The same time as a UTCTime `time`, encoded as GeneralizedTime.
pub fn generalized(time: &Node) -> Node {
    let Node::Prim(UTC_TIME, text) = time else {
        panic!("not a UTCTime: {time:?}");
    };
    let mut full = b"20".to_vec();
    full.extend_from_slice(text);
    Node::Prim(GENERALIZED_TIME, full)
}

/// A UTCTime `days` from now.
pub fn utc_time(days: i64) -> Node {
    let t = chrono::Utc::now() + chrono::TimeDelta::days(days);
    Node::Prim(UTC_TIME, t.format("%y%m%d%H%M%SZ").to_string().into_bytes())
}

/// A name attribute (`SET { SEQUENCE { type, value } }`).
pub fn attribute(dotted: &str, tag: u8, value: &str) -> Node {
    Node::Cons(
        SET,
        vec![seq(vec![oid(dotted), Node::Prim(tag, value.into())])],
    )
}
