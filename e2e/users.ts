/** The console users the browser tests sign in as; global-setup creates them and saves their sessions. */
export const ADMIN = { email: "admin@e2e.test", password: "admin password for e2e", state: "test-results/.auth/admin.json" };
export const HELPDESK = { email: "helpdesk@e2e.test", password: "helpdesk password for e2e", state: "test-results/.auth/helpdesk.json" };
