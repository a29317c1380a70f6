// The API's types, as openapi-typescript generates them from the gateway's /openapi.json
// (generated/api.d.ts): one contract, never hand-copied.
import type { components } from "./generated/api";

type Schemas = components["schemas"];
export type Definition = Schemas["accord.registry.v1.Definition"];
export type Revision = Schemas["accord.registry.v1.Revision"];
export type Review = Schemas["accord.registry.v1.Review"];
export type Caller = Schemas["accord.registry.v1.Caller"];
export type AuditEvent = Schemas["accord.registry.v1.AuditEvent"];
export type DefinitionDiff = Schemas["accord.registry.v1.DefinitionDiff"];
export type DefinitionChange = Schemas["accord.registry.v1.DefinitionChange"];
export type Condition = Schemas["accord.registry.v1.Condition"];
export type AttributeCondition = Schemas["accord.registry.v1.AttributeCondition"];
export type BuyerPersona = Schemas["accord.registry.v1.BuyerPersona"];
export type QualificationModel = Schemas["accord.registry.v1.QualificationModel"];
export type BuyerJourney = Schemas["accord.registry.v1.BuyerJourney"];
export type ServiceLevelAgreement = Schemas["accord.registry.v1.ServiceLevelAgreement"];
export type Decay = Schemas["accord.registry.v1.Decay"];
export type Lead = Schemas["accord.scoring.v1.Lead"];
export type LeadScore = Schemas["accord.scoring.v1.LeadScore"];
export type Reason = Schemas["accord.scoring.v1.Reason"];
export type PreviewRequest = Schemas["accord.scoring.v1.PreviewDefinitionRequest"];
export type PreviewResponse = Schemas["accord.scoring.v1.PreviewDefinitionResponse"];
export type LevelChange = Schemas["accord.scoring.v1.LevelChange"];
export type VolumeCheck = Schemas["accord.scoring.v1.VolumeCheck"];
export type ListDefinitionsResponse = Schemas["accord.registry.v1.ListDefinitionsResponse"];
export type ListRevisionsResponse = Schemas["accord.registry.v1.ListRevisionsResponse"];
export type ListAuditEventsResponse = Schemas["accord.registry.v1.ListAuditEventsResponse"];
export type QualityReport = Schemas["accord.registry.v1.QualityReport"];
export type AcceptanceRate = Schemas["accord.registry.v1.AcceptanceRate"];
export type ShadowReport = Schemas["accord.scoring.v1.ShadowReport"];
export type ShadowRevisionReport = Schemas["accord.scoring.v1.ShadowRevisionReport"];
