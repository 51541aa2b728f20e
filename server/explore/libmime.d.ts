/** The one libmime function used here (it ships no types): MIME encoded-words (RFC 2047) decoded. */
declare module "libmime" {
  const libmime: { decodeWords(text: string): string };
  export default libmime;
}
