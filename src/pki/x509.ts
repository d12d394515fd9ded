// reflect-metadata must be evaluated before @peculiar/x509: the library's DI container (tsyringe)
// throws at import time when the Reflect metadata API is missing. Every file in src/pki reaches
// @peculiar/x509 through this module so that the order always holds.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

/** WebCrypto types from node:crypto (the project compiles without the DOM lib). */
export type CryptoKey = webcrypto.CryptoKey;
/** A WebCrypto key pair. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Node's WebCrypto, passed explicitly to every @peculiar/x509 call. */
export const webCrypto = webcrypto;

// Also the library default, so that code paths that do not take an explicit provider use Node's.
x509.cryptoProvider.set(webCrypto);

/** The only algorithm Postern issues and accepts: ECDSA on P-256 with SHA-256. */
export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Clock skew tolerated between peers: certificates start this long before their issue time. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export { x509 };
