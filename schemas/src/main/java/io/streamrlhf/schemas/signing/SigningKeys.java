package io.streamrlhf.schemas.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 key pairs as PEM files, with the JDK's own provider: the private key as PKCS#8
 * ({@code -----BEGIN PRIVATE KEY-----}), the public key as X.509 SubjectPublicKeyInfo
 * ({@code -----BEGIN PUBLIC KEY-----}), the layouts {@code openssl genpkey -algorithm ed25519} writes and reads.
 * PEM armour is a few lines of Base64, written here rather than pulling in a library for it.
 */
public final class SigningKeys {

    /** The signature algorithm, as the JDK names it. */
    public static final String ALGORITHM = "Ed25519";
    /** File name of the private key {@link #writePair} writes. */
    public static final String PRIVATE_FILE = "signing.key.pem";
    /** File name of the public key {@link #writePair} writes. */
    public static final String PUBLIC_FILE = "signing.pub.pem";

    private SigningKeys() {
    }

    /** A fresh Ed25519 key pair. */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM + " provider (Java 15+ has one)", e);
        }
    }

    /**
     * Writes {@code pair} into {@code dir} as {@value #PRIVATE_FILE} (owner-only where the file system allows) and
     * {@value #PUBLIC_FILE}; refuses to overwrite an existing private key.
     *
     * @return the private key's path
     */
    public static Path writePair(KeyPair pair, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path priv = dir.resolve(PRIVATE_FILE);
        if (Files.exists(priv)) {
            throw new IOException(priv + " exists already; remove it or choose another --out directory");
        }
        Files.writeString(priv, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the directory's own protection applies
        }
        Files.writeString(dir.resolve(PUBLIC_FILE), pem("PUBLIC KEY", pair.getPublic().getEncoded()),
                StandardCharsets.US_ASCII);
        return priv;
    }

    /** Reads a PKCS#8 PEM private key; errors name the file. */
    public static PrivateKey readPrivate(Path file) {
        byte[] der = der(file, "PRIVATE KEY");
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " is not an Ed25519 private key (PKCS#8): " + e.getMessage(), e);
        }
    }

    /** Reads an X.509 PEM public key; errors name the file. */
    public static PublicKey readPublic(Path file) {
        byte[] der = der(file, "PUBLIC KEY");
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " is not an Ed25519 public key (X.509): " + e.getMessage(), e);
        }
    }

    /**
     * The public key of an Ed25519 private key. The JDK has no call for it, but its generator draws exactly the
     * 32-byte private seed from the randomness it is given, so a generator fed the seed re-derives the pair.
     */
    public static PublicKey publicOf(PrivateKey key) {
        try {
            java.security.interfaces.EdECPrivateKey ed = (java.security.interfaces.EdECPrivateKey) key;
            byte[] seed = ed.getBytes().orElseThrow(() -> new IllegalArgumentException("private key has no seed"));
            KeyPairGenerator g = KeyPairGenerator.getInstance(ALGORITHM);
            g.initialize(255, new FixedRandom(seed));
            return g.generateKeyPair().getPublic();
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IllegalArgumentException("cannot derive the public key of an " + key.getAlgorithm()
                    + " private key: " + e.getMessage(), e);
        }
    }

    /** First 16 hex digits of the SHA-256 of the key's X.509 encoding: short, stable, and printed by the CLI. */
    public static String keyId(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] der(Path file, String type) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read key file " + file + ": " + e.getMessage(), e);
        }
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException(file + " has no '" + begin + "' block; expected a PEM " + type);
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": the " + type + " block is not Base64: " + e.getMessage(), e);
        }
    }

    /** Hands out the seed as the generator's randomness, so the generator re-derives that seed's key pair. */
    private static final class FixedRandom extends java.security.SecureRandom {
        private final byte[] seed;

        FixedRandom(byte[] seed) {
            this.seed = seed.clone();
        }

        @Override
        public void nextBytes(byte[] bytes) {
            System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
        }
    }
}
