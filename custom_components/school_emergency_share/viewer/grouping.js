// How the page orders cameras: by school, then floor, then area. Nothing
// here touches the page.

const byName = (a, b) => (a ?? "\uffff").localeCompare(b ?? "\uffff");

// Schools by name (cameras of no school last), then floors by level (no
// level, then no floor, last), areas and cameras by name.
export function group(cameras) {
  const schools = new Map();
  for (const camera of cameras) {
    const schoolKey = camera.school ?? "";
    if (!schools.has(schoolKey)) schools.set(schoolKey, { name: camera.school ?? null, floors: new Map() });
    const floors = schools.get(schoolKey).floors;
    const floorKey = camera.floor ?? "";
    if (!floors.has(floorKey)) {
      floors.set(floorKey, { name: camera.floor, level: camera.floor_level, areas: new Map() });
    }
    const areas = floors.get(floorKey).areas;
    const areaKey = camera.area ?? "";
    if (!areas.has(areaKey)) areas.set(areaKey, { name: camera.area, cameras: [] });
    areas.get(areaKey).cameras.push(camera);
  }
  const rank = (floor) => (floor.name === null ? 2 : floor.level === null ? 1 : 0);
  const floorsOf = (school) =>
    [...school.floors.values()]
      .sort((a, b) => rank(a) - rank(b) || (a.level ?? 0) - (b.level ?? 0) || byName(a.name, b.name))
      .map((floor) => ({
        ...floor,
        areas: [...floor.areas.values()]
          .sort((a, b) => byName(a.name, b.name))
          .map((area) => ({ ...area, cameras: area.cameras.sort((a, b) => byName(a.name, b.name)) })),
      }));
  return [...schools.values()]
    .sort((a, b) => byName(a.name, b.name))
    .map((school) => ({ name: school.name, floors: floorsOf(school) }));
}

// "Lincoln High - Ground floor" under Lincoln High is "Ground floor".
export function floorTitle(floor, school) {
  const name = floor.name ?? "Other cameras";
  return school && name.startsWith(school) ? name.slice(school.length).replace(/^\s*[-–—·:]\s*/, "") || name : name;
}

