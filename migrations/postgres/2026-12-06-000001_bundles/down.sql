DROP TABLE mail_queue;
DROP TABLE bundle_permission_requests;
DROP TABLE bundle_permissions;
DROP TABLE bundles;
