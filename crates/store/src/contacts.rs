//! CA contacts, published as Ghostbusters records: the `contacts` table.

use crate::sql::args;

use crate::{Result, Tx};

impl Tx<'_> {
    /// The contact vCard of CA `handle`, if it has one.
    pub fn contact(&self, handle: &str) -> Result<Option<String>> {
        self.opt_row(
            "SELECT vcard FROM contacts WHERE ca = ?1",
            args![handle],
            |r| r.get(0),
        )
    }

    /// Sets (or with `None` removes) the contact vCard of CA `handle`.
    pub fn set_contact(&self, handle: &str, vcard: Option<&str>) -> Result<()> {
        match vcard {
            Some(vcard) => self.exec(
                "INSERT INTO contacts (ca, vcard) VALUES (?1, ?2)
                 ON CONFLICT (ca) DO UPDATE SET vcard = excluded.vcard",
                args![handle, vcard],
            )?,
            None => self.exec("DELETE FROM contacts WHERE ca = ?1", args![handle])?,
        };
        Ok(())
    }
}
