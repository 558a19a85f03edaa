// One ASCII cell for each non-ASCII symbol the views draw, for terminals without UTF-8: the
// dashboard hands the table to blessed (which otherwise prints '?'), and views that build their
// own text (the state diagram) map it themselves. One cell for one cell, so columns stay put.

export const ASCII_FALLBACK: Readonly<Record<string, string>> = {
  '─': '-',
  '│': '|',
  '┌': '+',
  '┐': '+',
  '└': '+',
  '┘': '+',
  '▲': '^',
  '▼': 'v',
  '►': '>',
  '◄': '<',
  '→': '>',
  '←': '<',
  '↑': '^',
  '↓': 'v',
  '…': '~',
  '—': '-',
  '–': '-',
  '†': '+',
  '█': '#',
  '·': '.',
  '×': 'x',
};

const FALLBACK_CHARS = new RegExp(`[${Object.keys(ASCII_FALLBACK).join('')}]`, 'g');

/** `text` with every symbol of ASCII_FALLBACK replaced by its ASCII cell; other text unchanged. */
export function toAscii(text: string): string {
  return text.replace(FALLBACK_CHARS, (c) => ASCII_FALLBACK[c] ?? c);
}
