// The one place @peculiar/x509 is loaded: after its Reflect prerequisite, wired to Node's WebCrypto.
// tsyringe, inside @peculiar/x509, needs the Reflect metadata API loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
