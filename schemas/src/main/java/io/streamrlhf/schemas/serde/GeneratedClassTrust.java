package io.streamrlhf.schemas.serde;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Lets Avro instantiate our generated classes when reading. Since 1.11.4/1.12, Avro refuses to load any class
 * outside {@code java.lang}/{@code java.util} by name while decoding ("Forbidden io.streamrlhf.schemas.avro.Prompt!
 * This class is not trusted...") unless it is listed in the {@code org.apache.avro.SERIALIZABLE_PACKAGES} system
 * property or in the global {@link ClassSecurityValidator}. Rather than have every JVM set a property, the
 * deserializers add the contracts' package (and the package of any class a deserializer is bound to) to the
 * global validator, keeping whatever was trusted before.
 */
public final class GeneratedClassTrust {
    /** Package of the generated contract classes. */
    public static final String CONTRACTS_PACKAGE = "io.streamrlhf.schemas.avro";

    private static final Set<String> TRUSTED_PACKAGES = ConcurrentHashMap.newKeySet();

    static {
        TRUSTED_PACKAGES.add(CONTRACTS_PACKAGE);
        ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous,
                type -> TRUSTED_PACKAGES.contains(type.getPackageName())));
    }

    private GeneratedClassTrust() {
    }

    /** Ensures the contracts' package is trusted (idempotent; the work happens once per JVM). */
    public static void ensureContractsTrusted() {
        // Loading this class ran the static initialiser; nothing else to do.
    }

    /** Trusts the package of {@code type} as well, for generated classes outside the contracts' package. */
    public static void trustPackageOf(Class<?> type) {
        TRUSTED_PACKAGES.add(type.getPackageName());
    }
}
