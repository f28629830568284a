//! One SQL dialect over two databases: the values, rows and statements
//! the store's queries use, run on SQLite or on PostgreSQL.
//!
//! Every query of the store is written once, in the SQL both databases
//! understand: `?N` placeholders (turned into `$N` for PostgreSQL),
//! `ON CONFLICT` upserts, `CASE` instead of two-argument `max`,
//! `substr(s, length(s) - 2)` instead of a negative start. Values are
//! integers, text and bytes, as SQLite stores them; on PostgreSQL they
//! are BIGINT, TEXT (collated "C", so that ORDER BY sorts as SQLite's
//! bytewise comparison does) and BYTEA.

use crate::{Result, StoreError, Tx, corrupt};

/// A value passed to or read from a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (BIGINT on PostgreSQL).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (BYTEA on PostgreSQL).
    Blob(Vec<u8>),
}

/// Converts a Rust value into a statement argument.
pub trait ToValue {
    /// The value as a statement argument.
    fn to_value(&self) -> Value;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_value!(i64, i32, u32, u16, u8, usize, u64);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// The arguments of a statement: `args![a, b]`.
macro_rules! args {
    () => {
        &[] as &[$crate::sql::Value]
    };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::sql::ToValue::to_value(&$x)),+][..]
    };
}
pub(crate) use args;

/// Converts a column's value into a Rust value.
pub trait FromValue: Sized {
    /// The Rust value of a column, or the value back if it has another
    /// type (for the error to show).
    fn from_value(v: Value) -> std::result::Result<Self, Value>;
}

impl FromValue for i64 {
    fn from_value(v: Value) -> std::result::Result<Self, Value> {
        match v {
            Value::Int(i) => Ok(i),
            v => Err(v),
        }
    }
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value) -> std::result::Result<Self, Value> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| Value::Int(i))
            }
        }
    )*};
}
int_from_value!(i32, u32, u8, u64, usize);

impl FromValue for String {
    fn from_value(v: Value) -> std::result::Result<Self, Value> {
        match v {
            Value::Text(s) => Ok(s),
            v => Err(v),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> std::result::Result<Self, Value> {
        match v {
            Value::Blob(b) => Ok(b),
            v => Err(v),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, Value> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A row read from a statement: its columns' values, each taken once.
#[derive(Debug)]
pub struct Row(pub(crate) Vec<Value>);

impl Row {
    /// Takes column `i` as a `T` (the column reads as NULL afterwards).
    pub fn get<T: FromValue>(&mut self, i: usize) -> Result<T> {
        let v = self
            .0
            .get_mut(i)
            .map(|v| std::mem::replace(v, Value::Null))
            .ok_or_else(|| corrupt("column", i))?;
        T::from_value(v).map_err(|v| {
            let shown = match &v {
                Value::Null => "NULL".to_string(),
                Value::Int(i) => i.to_string(),
                Value::Text(s) => format!("{s:?}"),
                Value::Blob(b) => format!("{} bytes", b.len()),
            };
            corrupt(
                "column",
                format!(
                    "{shown} in column {i}, not a {}",
                    std::any::type_name::<T>()
                ),
            )
        })
    }
}

/// Rewrites `?N` and `?` placeholders as PostgreSQL's `$N` (outside
/// quoted strings, where the store's SQL never puts a `?`).
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c != '?' || quoted {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        out.push('$');
        if digits.is_empty() {
            out.push_str(&next.to_string());
            next += 1;
        } else {
            out.push_str(&digits);
        }
    }
    out
}

/// The statements of a transaction, whichever database runs them.
pub(crate) enum Conn<'a> {
    /// A SQLite transaction.
    Lite(rusqlite::Transaction<'a>),
    /// A PostgreSQL transaction.
    Pg(crate::pg::PgTx<'a>),
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn lite_row(r: &rusqlite::Row<'_>, columns: usize) -> Result<Row> {
    use rusqlite::types::ValueRef;
    let mut out = Vec::with_capacity(columns);
    for i in 0..columns {
        out.push(match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Int(n),
            ValueRef::Text(t) => {
                Value::Text(String::from_utf8(t.to_vec()).map_err(|_| corrupt("text column", i))?)
            }
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            ValueRef::Real(f) => return Err(corrupt("real column", f)),
        });
    }
    Ok(Row(out))
}

impl Tx<'_> {
    /// Runs one statement; the number of rows it changed. On SQLite it
    /// goes through the connection's statement cache: the hot paths run
    /// the same few statements thousands of times, and preparing each
    /// anew showed up in profiles (PostgreSQL sessions cache theirs too).
    pub(crate) fn exec(&self, sql: &str, args: &[Value]) -> Result<usize> {
        match &self.tx {
            Conn::Lite(tx) => Ok(tx
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))?),
            Conn::Pg(tx) => tx.exec(sql, args),
        }
    }

    /// Runs a query; `f` makes a value of each row.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        args: &[Value],
        mut f: impl FnMut(&mut Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, args, |r| {
            out.push(f(r)?);
            Ok::<(), StoreError>(())
        })?;
        Ok(out)
    }

    /// Runs a query of at most one row.
    pub(crate) fn opt_row<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&mut Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut found = None;
        self.each(sql, args, |r| {
            if let Some(f) = f.take() {
                found = Some(f(r)?);
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(found)
    }

    /// Runs a query of exactly one row.
    pub(crate) fn row<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&mut Row) -> Result<T>,
    ) -> Result<T> {
        self.opt_row(sql, args, f)?
            .ok_or_else(|| StoreError::NoRow(sql.split_whitespace().collect::<Vec<_>>().join(" ")))
    }

    /// Runs a query, calling `f` with one row at a time as the database
    /// returns them (never all in memory); stops at `f`'s first error.
    pub(crate) fn each<E: From<StoreError>>(
        &self,
        sql: &str,
        args: &[Value],
        mut f: impl FnMut(&mut Row) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        match &self.tx {
            Conn::Lite(tx) => {
                let mut stmt = tx.prepare_cached(sql).map_err(StoreError::from)?;
                let columns = stmt.column_count();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(args))
                    .map_err(StoreError::from)?;
                while let Some(r) = rows.next().map_err(StoreError::from)? {
                    f(&mut lite_row(r, columns)?)?;
                }
                Ok(())
            }
            Conn::Pg(tx) => tx.each(sql, args, f),
        }
    }

    /// Runs several statements without arguments (schema changes).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match &self.tx {
            Conn::Lite(tx) => Ok(tx.execute_batch(sql)?),
            Conn::Pg(tx) => tx.batch(sql),
        }
    }

    /// Whether the transaction runs on PostgreSQL.
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self.tx, Conn::Pg(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars() {
        assert_eq!(
            dollar_placeholders("SELECT a FROM t WHERE a = ?1 AND b = ?12 AND c = '?'"),
            "SELECT a FROM t WHERE a = $1 AND b = $12 AND c = '?'"
        );
        assert_eq!(dollar_placeholders("x = ? AND y = ?"), "x = $1 AND y = $2");
    }
}
