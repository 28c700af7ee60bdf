// One schema for both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        plan -> Text,
        locale -> Nullable<Text>,
        disabled -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        session_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    books (id) {
        id -> Text,
        user_id -> Text,
        title -> Text,
        idea -> Text,
        genre -> Text,
        audience -> Text,
        tone -> Text,
        language -> Text,
        target_pages -> Integer,
        status -> Text,
        status_reason -> Nullable<Text>,
        architecture -> Nullable<Text>,
        is_demo -> Bool,
        control -> Text,
        fence -> BigInt,
        version -> Integer,
        chunks_total -> Integer,
        chunks_done -> Integer,
        words -> BigInt,
        input_tokens -> BigInt,
        output_tokens -> BigInt,
        cost_usd -> Double,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        pen_name -> Text,
        dedication -> Text,
        copyright_line -> Text,
        budget_usd -> Nullable<Double>,
        cache_creation_tokens -> BigInt,
        cache_read_tokens -> BigInt,
        continuity_audit -> Bool,
    }
}

diesel::table! {
    chapters (id) {
        id -> Text,
        book_id -> Text,
        position -> Integer,
        title -> Text,
        summary -> Text,
        key_points -> Text,
        target_words -> Integer,
        rolling_summary -> Nullable<Text>,
        status -> Text,
        words -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision_kind -> Text,
        revised_by -> Nullable<Text>,
        revised_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    chapter_versions (id) {
        id -> Text,
        book_id -> Text,
        chapter_index -> Integer,
        number -> Integer,
        content -> Text,
        words -> Integer,
        kind -> Text,
        author_id -> Nullable<Text>,
        created_at -> Timestamp,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    chunks (id) {
        id -> Text,
        book_id -> Text,
        seq -> BigInt,
        chapter_index -> Integer,
        part_index -> Integer,
        text -> Text,
        words -> Integer,
        input_tokens -> BigInt,
        output_tokens -> BigInt,
        fence -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        queue -> Text,
        priority -> Integer,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        fence -> BigInt,
        last_error -> Nullable<Text>,
        unique_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (book_id, seq) {
        book_id -> Text,
        seq -> BigInt,
        kind -> Text,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        rate_limit_per_minute -> Nullable<Integer>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    llm_calls (id) {
        id -> Text,
        book_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        purpose -> Text,
        provider -> Text,
        model -> Text,
        input_tokens -> BigInt,
        output_tokens -> BigInt,
        cost_usd -> Double,
        latency_ms -> BigInt,
        status -> Text,
        error_kind -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
        cache_creation_tokens -> BigInt,
        cache_read_tokens -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        detail -> Text,
        ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    metrics_rollup (width_secs, slot, series, dim) {
        width_secs -> Integer,
        slot -> BigInt,
        series -> Text,
        dim -> Text,
        value -> Double,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        user_agent -> Text,
        ip -> Text,
    }
}

diesel::table! {
    login_throttle (email_hash) {
        email_hash -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        name -> Text,
        position -> Integer,
        public -> Bool,
        architectures_per_hour -> Integer,
        books_per_hour -> Integer,
        books_per_month -> Integer,
        max_pages -> Integer,
        cover_candidates -> Integer,
        paypal_price_cents -> BigInt,
        paypal_currency -> Text,
        paypal_plan_id -> Nullable<Text>,
        mercadopago_price_cents -> BigInt,
        mercadopago_currency -> Text,
        mercadopago_plan_id -> Nullable<Text>,
        updated_at -> Timestamp,
        book_budget_usd -> Double,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Text,
        user_id -> Text,
        plan_id -> Text,
        provider -> Text,
        provider_subscription_id -> Nullable<Text>,
        status -> Text,
        current_period_end -> Nullable<Timestamp>,
        last_event_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    billing_events (id) {
        id -> Text,
        provider -> Text,
        event_id -> Text,
        body_sha256 -> Text,
        event_type -> Text,
        resource_id -> Text,
        subscription_id -> Nullable<Text>,
        headers -> Text,
        payload -> Text,
        status -> Text,
        outcome -> Text,
        received_at -> Timestamp,
        processed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    quota_uses (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        book_id -> Nullable<Text>,
        used_at -> Timestamp,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    covers (book_id) {
        book_id -> Text,
        design -> Text,
        prompt -> Text,
        art_id -> Nullable<Text>,
        image -> Nullable<Binary>,
        thumb -> Nullable<Binary>,
        version -> Integer,
        status -> Text,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cover_art (id) {
        id -> Text,
        book_id -> Text,
        source -> Text,
        image -> Binary,
        thumb -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    continuity_findings (id) {
        id -> Text,
        book_id -> Text,
        chapter_index -> Integer,
        kind -> Text,
        severity -> Integer,
        quote -> Text,
        explanation -> Text,
        suggestion -> Text,
        status -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(books -> users (user_id));
diesel::joinable!(covers -> books (book_id));
diesel::joinable!(cover_art -> books (book_id));
diesel::joinable!(sessions -> users (user_id));
diesel::table! {
    credential_epoch (id) {
        id -> Integer,
        epoch -> BigInt,
    }
}

diesel::joinable!(chapters -> books (book_id));
diesel::joinable!(chunks -> books (book_id));
diesel::joinable!(events -> books (book_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(subscriptions -> users (user_id));
diesel::joinable!(chapter_versions -> books (book_id));
diesel::joinable!(continuity_findings -> books (book_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    books,
    chapters,
    chunks,
    jobs,
    events,
    api_keys,
    llm_calls,
    audit_log,
    metrics_rollup,
    sessions,
    login_throttle,
    plans,
    subscriptions,
    billing_events,
    quota_uses,
    chapter_versions,
    covers,
    cover_art,
    continuity_findings,
    credential_epoch,
);
