//! The one schema both backends share (migrations/sqlite and migrations/postgres create it).

diesel::table! {
    users (num_id) {
        num_id -> BigInt,
        id -> Text,
        username -> Text,
        email -> Text,
        email_key -> Text,
        password_hash -> Nullable<Text>,
        password_salt -> Nullable<Text>,
        date_password -> Nullable<Timestamp>,
        enabled -> Bool,
        admin -> Bool,
        description -> Nullable<Text>,
        website -> Nullable<Text>,
        gravatar -> Bool,
        image -> Text,
        extra -> Nullable<Text>,
        starters_tour_ended -> Bool,
        eidas_id -> Nullable<Text>,
        created_at -> Timestamp,
        system_rights -> Text,
        rights_version -> BigInt,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        secret_digest -> Nullable<Text>,
        url -> Nullable<Text>,
        redirect_uri -> Nullable<Text>,
        redirect_sign_out_uri -> Nullable<Text>,
        image -> Text,
        grant_type -> Nullable<Text>,
        response_type -> Nullable<Text>,
        token_types -> Nullable<Text>,
        jwt_secret -> Nullable<Text>,
        client_type -> Nullable<Text>,
        scope -> Nullable<Text>,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    roles (id) {
        id -> Text,
        name -> Text,
        is_internal -> Bool,
        oauth_client_id -> Text,
    }
}

diesel::table! {
    permissions (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        is_internal -> Bool,
        action -> Nullable<Text>,
        resource -> Nullable<Text>,
        xml -> Nullable<Text>,
        is_regex -> Bool,
        authorization_service_header -> Nullable<Text>,
        use_authorization_service_header -> Bool,
        regex_entity_ids -> Nullable<Text>,
        regex_attributes -> Nullable<Text>,
        regex_types -> Nullable<Text>,
        oauth_client_id -> Text,
    }
}

diesel::table! {
    role_permissions (role_id, permission_id) {
        role_id -> Text,
        permission_id -> Text,
    }
}

diesel::table! {
    organizations (num_id) {
        num_id -> BigInt,
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        website -> Nullable<Text>,
        image -> Text,
        created_at -> Timestamp,
        system_rights -> Text,
        rights_version -> BigInt,
    }
}

diesel::table! {
    user_organizations (user_id, organization_id) {
        user_id -> Text,
        organization_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    role_assignments (num_id) {
        num_id -> BigInt,
        oauth_client_id -> Text,
        role_id -> Text,
        user_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        role_organization -> Nullable<Text>,
    }
}

diesel::table! {
    pep_proxies (id) {
        id -> Text,
        password_digest -> Text,
        password_salt -> Nullable<Text>,
        oauth_client_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    iot_agents (id) {
        id -> Text,
        password_digest -> Text,
        password_salt -> Nullable<Text>,
        oauth_client_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    trusted_applications (oauth_client_id, trusted_oauth_client_id) {
        oauth_client_id -> Text,
        trusted_oauth_client_id -> Text,
    }
}

diesel::table! {
    api_tokens (digest) {
        digest -> Text,
        user_id -> Nullable<Text>,
        pep_proxy_id -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    albums (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        created_time -> Timestamp,
        last_event_time -> Timestamp,
        add_user_permission -> Bool,
        download_series_permission -> Bool,
        send_series_permission -> Bool,
        delete_series_permission -> Bool,
        add_series_permission -> Bool,
        write_comments_permission -> Bool,
    }
}

diesel::table! {
    album_users (album_id, user_id) {
        album_id -> Text,
        user_id -> Text,
        admin -> Bool,
    }
}

diesel::table! {
    capabilities (id) {
        id -> Text,
        secret_sha256 -> Text,
        title -> Text,
        scope_type -> Text,
        album_id -> Nullable<Text>,
        user_id -> Text,
        read_permission -> Bool,
        write_permission -> Bool,
        download_permission -> Bool,
        appropriate_permission -> Bool,
        issued_at_time -> Timestamp,
        not_before_time -> Timestamp,
        expiration_time -> Timestamp,
        last_used -> Nullable<Timestamp>,
        revoke_time -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        updated_time -> Timestamp,
    }
}

diesel::table! {
    oauth_authorization_codes (digest) {
        digest -> Text,
        oauth_client_id -> Text,
        user_id -> Text,
        scope -> Text,
        redirect_uri -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        nonce -> Nullable<Text>,
        expires_at -> Timestamp,
        used -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_refresh_tokens (digest) {
        digest -> Text,
        oauth_client_id -> Text,
        user_id -> Nullable<Text>,
        iot_agent_id -> Nullable<Text>,
        scope -> Text,
        expires_at -> Timestamp,
        code_digest -> Nullable<Text>,
        revoked -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_access_tokens (digest) {
        digest -> Text,
        oauth_client_id -> Text,
        user_id -> Nullable<Text>,
        iot_agent_id -> Nullable<Text>,
        scope -> Text,
        expires_at -> Nullable<Timestamp>,
        refresh_digest -> Nullable<Text>,
        code_digest -> Nullable<Text>,
        revoked -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    server_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_authorized_applications (user_id, oauth_client_id) {
        user_id -> Text,
        oauth_client_id -> Text,
        shared_attributes -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    browser_sessions (digest) {
        digest -> Text,
        user_id -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    easydb_sessions (digest) {
        digest -> Text,
        language -> Text,
        user_id -> Nullable<Text>,
        authenticated_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    right_presets (num_id) {
        num_id -> BigInt,
        context -> Text,
        position -> BigInt,
        version -> BigInt,
        displayname -> Text,
        description -> Text,
        rights -> Text,
        tagfilter -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bundles (num_id) {
        num_id -> BigInt,
        name -> Text,
        name_key -> Text,
        description -> Text,
        permissions -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bundle_permissions (num_id) {
        num_id -> BigInt,
        bundle_id -> BigInt,
        user_allowed -> Text,
        user_target -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bundle_permission_requests (num_id) {
        num_id -> BigInt,
        token_digest -> Nullable<Text>,
        bundle_id -> BigInt,
        user_allowed -> Text,
        user_target -> Text,
        created_by -> Nullable<Text>,
        redeem_url -> Nullable<Text>,
        expires_at -> Timestamp,
        redeemed_at -> Nullable<Timestamp>,
        email_sent -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_queue (num_id) {
        num_id -> BigInt,
        request_id -> Nullable<BigInt>,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

// Foreign keys to a table's primary key (those to users(id) name a unique column, not the
// primary key num_id, so they have no joinable! entry).
diesel::joinable!(bundle_permissions -> bundles (bundle_id));
diesel::joinable!(bundle_permission_requests -> bundles (bundle_id));
diesel::joinable!(mail_queue -> bundle_permission_requests (request_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    oauth_clients,
    roles,
    permissions,
    role_permissions,
    organizations,
    user_organizations,
    role_assignments,
    pep_proxies,
    iot_agents,
    trusted_applications,
    api_tokens,
    albums,
    album_users,
    capabilities,
    oauth_authorization_codes,
    oauth_refresh_tokens,
    oauth_access_tokens,
    server_keys,
    user_authorized_applications,
    browser_sessions,
    easydb_sessions,
    right_presets,
    bundles,
    bundle_permissions,
    bundle_permission_requests,
    mail_queue,
);
