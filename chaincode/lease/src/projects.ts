import { Context } from 'fabric-contract-api';
import {
    allOf, alreadyExists, answerWithEvent, canonicalJson, MAX_EMISSIONS_KG, notFound, pageOf, parseObjectArg, parsePageSize,
    readEnum, readId, readInt, readJson, readText, requireRole, txClock, writeJson,
} from '@carbonlease/common';
import { INTEREST, interestKey, PROJECT, projectKey } from './keys';

/** The shared Greater Bay Area green-project library: visible to every org on the channel. */
export const CATEGORIES = ['clean_energy', 'energy_storage', 'ev', 'energy_saving'] as const;

export interface Project {
    project_id: string;
    name: string;
    category: typeof CATEGORIES[number];
    expected_annual_reduction_kg: number;
    location: string;
    owner_msp: string;
    registered_at: string;
}

export interface Interest {
    project_id: string;
    partner_msp: string;
    amount_fen: number;
    note: string;
    expressed_at: string;
}

export async function readProject(ctx: Context, projectId: string): Promise<Project> {
    const project = await readJson<Project>(ctx, projectKey(ctx, projectId));
    if (project === null) {
        throw notFound(`project ${projectId} does not exist`);
    }
    return project;
}

/** The owner is the caller's MSP, never an argument, so no org can register in another's name. */
export async function registerProject(ctx: Context, projectJson: string): Promise<string> {
    const input = parseObjectArg(projectJson, 'project_json',
        ['project_id', 'name', 'category', 'expected_annual_reduction_kg', 'location']);
    const projectId = readId(input.project_id, 'project_id');
    const name = readText(input.name, 'name', 1, 200);
    const category = readEnum(input.category, 'category', CATEGORIES);
    const reductionKg = readInt(input.expected_annual_reduction_kg, 'expected_annual_reduction_kg', 0, MAX_EMISSIONS_KG);
    const location = readText(input.location, 'location', 1, 200);
    const caller = await requireRole(ctx, 'lessor', 'partner');

    const key = projectKey(ctx, projectId);
    if (await readJson<Project>(ctx, key) !== null) {
        throw alreadyExists(`project ${projectId} is already registered`);
    }
    const project: Project = {
        project_id: projectId,
        name,
        category,
        expected_annual_reduction_kg: reductionKg,
        location,
        owner_msp: caller.mspId,
        registered_at: txClock(ctx).iso,
    };
    await writeJson(ctx, key, project);
    return answerWithEvent(ctx, 'ProjectRegistered', project);
}

export async function getProject(ctx: Context, projectIdArg: string): Promise<string> {
    return canonicalJson(await readProject(ctx, readId(projectIdArg, 'project_id')));
}

export async function listProjects(ctx: Context, pageSizeArg: string, bookmark: string): Promise<string> {
    return canonicalJson(await pageOf(ctx, PROJECT, [], parsePageSize(pageSizeArg), bookmark, false));
}

/** One standing expression of interest per partner org and project; a repeat replaces it. */
export async function expressInterest(ctx: Context, projectIdArg: string, interestJson: string): Promise<string> {
    const projectId = readId(projectIdArg, 'project_id');
    const input = parseObjectArg(interestJson, 'interest_json', ['amount_fen', 'note']);
    const amountFen = readInt(input.amount_fen, 'amount_fen', 1, Number.MAX_SAFE_INTEGER);
    const note = readText(input.note, 'note', 0, 1000, 'multi');
    const caller = await requireRole(ctx, 'partner');
    await readProject(ctx, projectId);

    const interest: Interest = {
        project_id: projectId,
        partner_msp: caller.mspId,
        amount_fen: amountFen,
        note,
        expressed_at: txClock(ctx).iso,
    };
    await writeJson(ctx, interestKey(ctx, projectId, caller.mspId), interest);
    return answerWithEvent(ctx, 'InterestExpressed', interest);
}

export async function listInterests(ctx: Context, projectIdArg: string): Promise<string> {
    const projectId = readId(projectIdArg, 'project_id');
    await readProject(ctx, projectId);
    return canonicalJson(await allOf<Interest>(ctx, INTEREST, [projectId]));
}
