package io.streamrlhf.loop.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/** A process's resident memory, as Linux reports it in {@code /proc/PID/status}. */
public final class ProcessMemory {

    private ProcessMemory() {
    }

    /** The resident set size of {@code pid} in KiB; empty when the process is gone or this is not Linux. */
    public static OptionalLong rssKb(long pid) {
        try {
            return vmRssKb(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The resident memory of {@code pid} split as Linux splits it: anonymous pages (heaps, stacks: where a leak
     * shows) and pages of mapped files (reclaimable page cache, e.g. a broker's memory-mapped index files). Empty when
     * the process is gone or this is not Linux.
     */
    public static Optional<Resident> resident(long pid) {
        try {
            String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
            OptionalLong rss = vmRssKb(status);
            if (rss.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Resident(rss.getAsLong(), fieldKb(status, "RssAnon").orElse(-1),
                    fieldKb(status, "RssFile").orElse(-1)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Resident memory in KiB.
     *
     * @param rssKb  all of it ({@code VmRSS})
     * @param anonKb anonymous pages ({@code RssAnon}), -1 where the kernel does not say
     * @param fileKb pages of mapped files ({@code RssFile}), -1 where the kernel does not say
     */
    public record Resident(long rssKb, long anonKb, long fileKb) {
    }

    /** The {@code VmRSS:} line of a {@code /proc/PID/status} text, in KiB; empty where there is none. */
    public static OptionalLong vmRssKb(String status) {
        return fieldKb(status, "VmRSS");
    }

    /** The line {@code field:} of a {@code /proc/PID/status} text, in KiB; empty where there is none. */
    static OptionalLong fieldKb(String status, String field) {
        String prefix = field + ":";
        for (String line : status.split("\n")) {
            if (line.startsWith(prefix)) {
                String[] parts = line.substring(prefix.length()).trim().split("\\s+");
                long value = Long.parseLong(parts[0]);
                String unit = parts.length > 1 ? parts[1] : "kB";
                return OptionalLong.of(switch (unit) {
                    case "kB" -> value;
                    case "mB", "MB" -> value * 1024;
                    default -> throw new IllegalArgumentException(field + " in an unknown unit: " + line);
                });
            }
        }
        return OptionalLong.empty();
    }
}
