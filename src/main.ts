// Composition root (filled in below as the CLI lands).
export async function main(_argv: readonly string[]): Promise<number> {
  return 0;
}
