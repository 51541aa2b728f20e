/** Deterministic, plausible people for demo and scale data. */
export const FIRST_NAMES = [
  "alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "karl", "laura",
  "mallory", "nina", "oscar", "peggy", "quentin", "rupert", "sybil", "trent", "ursula", "victor",
  "wendy", "xavier", "yvonne", "zack", "amir", "beatriz", "chen", "dmitri", "elif", "fatima", "gustav",
  "hana", "ines", "jonas", "kenji", "lucia", "mateo", "noor", "olga", "pavel", "rosa", "sanjay",
  "tomas", "uma", "valentina", "wei", "yusuf", "zoe", "anders", "bianca", "cyrus", "daria", "emil",
  "freya", "goran", "hugo", "ingrid", "jasper", "kofi", "leila", "marek", "nadia",
] as const;

export const LAST_NAMES = [
  "smith", "jones", "garcia", "muller", "rossi", "nowak", "kim", "tanaka", "silva", "dubois", "novak",
  "jensen", "ivanova", "khan", "oconnor", "schmidt", "costa", "berg", "lindqvist", "moreau", "fischer",
  "weber", "bauer", "horvat", "kowalski", "popescu", "yilmaz", "nguyen", "sato", "okafor", "mensah",
  "haddad", "cohen", "levi", "santos", "ferreira", "almeida", "martin", "bernard", "petit", "richard",
  "durand", "leroy", "moulin", "vidal", "romero", "navarro", "torres", "ramos", "molina", "castro",
  "ortiz", "delgado", "marin", "sanz", "iglesias", "medina", "garrido", "cortes", "lozano", "guerrero",
  "cano", "prieto", "mendez",
] as const;

/** The n-th person: first.last, with a number once the combinations run out. */
export function personName(n: number): { first: string; last: string; localpart: string } {
  const first = FIRST_NAMES[n % FIRST_NAMES.length]!;
  const last = LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length]!;
  const round = Math.floor(n / (FIRST_NAMES.length * LAST_NAMES.length));
  return { first, last, localpart: round === 0 ? `${first}.${last}` : `${first}.${last}${round + 1}` };
}

export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
