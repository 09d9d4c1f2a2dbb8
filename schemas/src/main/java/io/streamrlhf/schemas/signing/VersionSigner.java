package io.streamrlhf.schemas.signing;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;

/**
 * Signs the versions a publisher sends ({@link SignedVersion#payload()}) with its Ed25519 private key, and stamps
 * the record with the signature and the key's id.
 */
public final class VersionSigner {

    private final PrivateKey key;
    private final PublicKey publicKey;
    private final String keyId;

    /** A signer with {@code key}. */
    public VersionSigner(PrivateKey key) {
        this.key = key;
        this.publicKey = SigningKeys.publicOf(key);
        this.keyId = SigningKeys.keyId(publicKey);
    }

    /** A signer with the PKCS#8 PEM private key in {@code file}. */
    public static VersionSigner fromFile(Path file) {
        return new VersionSigner(SigningKeys.readPrivate(file));
    }

    /** The id of this signer's key. */
    public String keyId() {
        return keyId;
    }

    /** This signer's public key (a publisher trusts its own earlier versions). */
    public PublicKey publicKey() {
        return publicKey;
    }

    /** {@code version} with its signature and key id set. */
    public PolicyVersion sign(PolicyVersion version) {
        return PolicyVersion.newBuilder(version).setSignature(ByteBuffer.wrap(sign(SignedVersion.of(version))))
                .setSigningKeyId(keyId).build();
    }

    /** {@code version} with its signature and key id set. */
    public RewardModelVersion sign(RewardModelVersion version) {
        return RewardModelVersion.newBuilder(version).setSignature(ByteBuffer.wrap(sign(SignedVersion.of(version))))
                .setSigningKeyId(keyId).build();
    }

    /** The signature over {@code version}'s payload. */
    public byte[] sign(SignedVersion version) {
        try {
            Signature s = Signature.getInstance(SigningKeys.ALGORITHM);
            s.initSign(key);
            s.update(version.payload());
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign " + version.describe() + ": " + e.getMessage(), e);
        }
    }
}
