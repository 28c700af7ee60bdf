-- Book covers. `covers`: one row per book with the author's design (JSON), the art prompt, the chosen
-- art and the rendered cover (JPEG, 1600x2560) with its thumbnail; `version` grows with every saved
-- cover and keys the export cache. `cover_art`: candidates (generated or uploaded), already
-- re-encoded by the server. Images live in the database so every node sharing it serves them.
CREATE TABLE covers (
    book_id TEXT PRIMARY KEY NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    design TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    art_id TEXT,
    image BLOB,
    thumb BLOB,
    version INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'idle',
    last_error TEXT,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE cover_art (
    id TEXT PRIMARY KEY NOT NULL,
    book_id TEXT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    image BLOB NOT NULL,
    thumb BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cover_art_book ON cover_art (book_id, created_at);
