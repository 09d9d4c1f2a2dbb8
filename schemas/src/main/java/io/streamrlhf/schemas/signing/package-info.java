/**
 * Authorship of published versions: Ed25519 keys ({@link io.streamrlhf.schemas.signing.SigningKeys}), the bytes a
 * publisher signs for a policy or reward-model version ({@link io.streamrlhf.schemas.signing.SignedVersion}), signing
 * ({@link io.streamrlhf.schemas.signing.VersionSigner}) and verification against configured public keys
 * ({@link io.streamrlhf.schemas.signing.VersionVerifier}), set by
 * {@link io.streamrlhf.schemas.signing.VersionSigningConfig}. The sha256 a version carries proves the checkpoint's
 * integrity; the signature proves who published it.
 */
package io.streamrlhf.schemas.signing;
