/** The media type of a Content-Type header, lower-cased and without parameters. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return 'application/octet-stream';
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/** Form bodies, which the contract keeps as text rather than bytes. */
export function isFormMediaType(type: string): boolean {
  return type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded';
}
