-- One database per store, as the design wants: no service reads another's (docker-compose.yml creates
-- izlek_plans through POSTGRES_DB; this script, run once on an empty volume, creates the others).
CREATE DATABASE izlek_partners;
CREATE DATABASE izlek_notifications_events;
CREATE DATABASE izlek_notifications;
CREATE DATABASE izlek_gateway;
