-- Passwords of encrypted PDFs leave the database for the operating system's keyring
-- (engine/src/secrets.rs), filed under this library's id and the document's. Between the two
-- halves, store::migrate hands each kept password to the keyring.
CREATE TABLE library (id TEXT NOT NULL);
INSERT INTO library (id) VALUES (lower(hex(randomblob(16))));
-- PASSWORDS MOVED OUT HERE
ALTER TABLE documents DROP COLUMN password;
