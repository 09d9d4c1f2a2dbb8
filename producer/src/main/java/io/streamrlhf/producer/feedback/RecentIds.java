package io.streamrlhf.producer.feedback;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code feedback_id}s stored most recently, so a repeated label (a retry, a double click, a replay) is stored
 * once. Bounded: beyond {@code capacity} ids the oldest are forgotten, so memory stays flat; a duplicate of an id
 * forgotten that way is stored again.
 */
final class RecentIds {

    private final Map<String, Boolean> ids;

    RecentIds(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("duplicate-id memory must hold >= 1 id, got " + capacity);
        }
        this.ids = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Claims {@code id}: true when it was not seen (it is now), false for a duplicate. */
    synchronized boolean claim(String id) {
        return ids.putIfAbsent(id, Boolean.TRUE) == null;
    }

    /** Gives a claimed id back, when its label could not be stored. */
    synchronized void release(String id) {
        ids.remove(id);
    }

    synchronized int size() {
        return ids.size();
    }
}
