/** The session cookie's name: kept apart so the page proxy can read it without the database. */
export const SESSION_COOKIE = "mailvault_session";
export const SESSION_DAYS = 7;
