package org.authhmac.it.persistent;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Scopes;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import javax.jms.ConnectionFactory;
import org.apache.activemq.store.PersistenceAdapter;
import org.apache.activemq.store.kahadb.KahaDBPersistenceAdapter;
import org.apache.james.core.healthcheck.HealthCheck;
import org.apache.james.queue.activemq.ActiveMQHealthCheck;
import org.apache.james.queue.activemq.ActiveMQMailQueueFactory;
import org.apache.james.queue.activemq.EmbeddedActiveMQ;
import org.apache.james.queue.activemq.metric.ActiveMQMetricCollector;
import org.apache.james.queue.activemq.metric.ActiveMQMetricCollectorNoop;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.ManageableMailQueue;

/**
 * Replaces the memory server's in-heap mail queues by James's ActiveMQ queues: an embedded broker whose KahaDB
 * journal and blob files live under {@code var/store/activemq/} of the James working directory. A mail is in the
 * journal before SMTP answers 250, and leaves the queue only when the spooler has finished with it, so a kill -9
 * loses neither. The memory server asks for the queue factory under three generic types; all three get the same one.
 */
public final class PersistentMailQueueModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(PersistenceAdapter.class).to(KahaDBPersistenceAdapter.class);
        bind(KahaDBPersistenceAdapter.class).in(Scopes.SINGLETON);
        bind(EmbeddedActiveMQ.class).in(Scopes.SINGLETON);
        bind(ActiveMQMailQueueFactory.class).in(Scopes.SINGLETON);
        // queue sizes are read through WebAdmin's /mailQueues; broker gauges are not needed here
        bind(ActiveMQMetricCollector.class).to(ActiveMQMetricCollectorNoop.class);
        // /healthcheck then also says whether the broker answers
        Multibinder.newSetBinder(binder(), HealthCheck.class).addBinding().to(ActiveMQHealthCheck.class);
    }

    @Provides
    @Singleton
    ConnectionFactory brokerConnections(EmbeddedActiveMQ broker) {
        return broker.getConnectionFactory();
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends ManageableMailQueue> manageableQueues(ActiveMQMailQueueFactory factory) {
        // JMX is off on these servers (jmx.properties); WebAdmin manages the queues
        factory.setUseJMX(false);
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<?> anyQueues(ActiveMQMailQueueFactory factory) {
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends MailQueue> queues(ActiveMQMailQueueFactory factory) {
        return factory;
    }
}
